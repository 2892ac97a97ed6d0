"""What an analysis writes: tables, summary.json, report.html and plots, the annotated video, OpenSim exports."""
