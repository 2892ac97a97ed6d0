"""Everything after pose, with no file or video access: cleaning, leg swaps, kinematics, events,
metrics, status, flags, quality, the typed summary.
"""
