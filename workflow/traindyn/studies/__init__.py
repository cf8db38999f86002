"""Studies: the papers' analyses on your own model and data (config ``studies``)."""
