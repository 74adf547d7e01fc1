"""Deployment on the real TF Serving: model server config, batching, docker compose, Kubernetes, trainer image."""
