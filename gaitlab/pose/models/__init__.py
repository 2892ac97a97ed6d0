"""Pose model files: where they come from (Google, PyPI wheels, the npm registry), checksums,
building the heavy model offline.
"""
