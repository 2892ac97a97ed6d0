"""Accuracy against ground truth (motion capture with force plates, FootNet, hand-labelled real
clips), rendered test clips and the benchmark. Not used by an analysis.
"""
