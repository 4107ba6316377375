"""Run statistics, plots and the HTML report."""
