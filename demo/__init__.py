"""The demo `make run` seeds (`ecvet bootstrap-demo`): not domain code, it uses the domain like a user."""
