"""Files in and out: the one video decode loop and its time stamps, the H.264 writer, landmark
files, the pose cache, atomic writes, locks.
"""
