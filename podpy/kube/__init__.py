"""Kubernetes YAML out (`kube generate`) and in (`kube play`, `kube down`): podpy hands off to a cluster
and runs a cluster's YAML locally, never becoming an orchestrator itself."""
