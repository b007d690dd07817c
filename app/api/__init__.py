"""HTTP shell: flask-smorest blueprints that parse, call one service, and dump."""
