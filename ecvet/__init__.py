"""The ECVET domain, one subpackage per concept (models, service, views, workflow in each); never Flask."""
