"""The ECVET domain, one subpackage per concept (models, service, views, workflow in each); it uses the engine, never Flask."""
