"""gccheck: will W&B Server's artifact garbage collection work on this deployment?"""

__version__ = "0.1.0"
