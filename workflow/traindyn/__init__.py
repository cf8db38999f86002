"""traindyn: the science behind the traindyn Snakemake pipeline.

Importing the package does no work; every stage lives in its own module and is called by one
Snakemake rule (through ``workflow/scripts/step.py``) and by the tests with the same arguments.
"""

__version__ = "0.1.0"
