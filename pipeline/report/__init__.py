"""The run report and the run summary: what a run did, read back from ML Metadata and the artifacts its
components wrote (build.py writes the HTML; summary.py prints the lines that end a run)."""
