"""ecrlint: will this EKS cluster be able to pull and run these container images?"""

__version__ = "0.1.0"
