"""Teams: uploads into a team library, batch runs over a squad's clips (process pool or Ray), the
team table and report.
"""
