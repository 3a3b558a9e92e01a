"""{{ cookiecutter.project_slug }}: an ML product wired through data versioning, training, serving and monitoring."""

__version__ = "0.1.0"
