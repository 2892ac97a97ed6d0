"""Shared by every stage: types, settings, errors and exit codes, landmark and column names, cores
and threads, logging.
"""
