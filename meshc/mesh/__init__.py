"""The data mesh: projects (mesh.yaml), the contract graph, and running every contract in order."""
