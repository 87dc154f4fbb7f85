"""dhrbot: helping bereaved families take part in a Domestic Homicide Review, in their own language."""

__version__ = "0.1.0"
