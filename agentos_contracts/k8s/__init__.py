"""SCALE OUT: agentos documents as Kubernetes custom resources, and the admission webhook."""
