"""MediaPipe pose over a clip: parallel extraction, scan, repeated frames, camera motion, picking
the athlete, crop-follow.
"""
