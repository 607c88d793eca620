"""The documentation site's generated pages: the command-line reference from the argparse
parsers, the study and trial attributes, the learning-curve table format, the package faces
(``__all__``) and the results read from ``bench/results/*.json``. ``mkdocs.yml`` loads
:mod:`docsgen.hooks`, which adds these pages at build time, so the reference follows the code."""
