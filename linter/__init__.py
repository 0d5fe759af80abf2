"""ecrlint: will this EKS cluster be able to pull and run these container images?"""

__version__ = "0.2.0"
