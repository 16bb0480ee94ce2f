"""National models as data (the DMN table) and the registry of competent institutions."""
