"""Pods: a group of containers sharing the namespaces an infra container holds (`pod ...`, `--pod`)."""

from podpy.engine.pods.members import after_exit, before_start, join
from podpy.engine.pods.record import NoSuchPod, PodRecord, parse_share
from podpy.engine.pods.service import PodCreate, PodService

__all__ = ["after_exit", "NoSuchPod", "PodCreate", "PodRecord", "PodService", "before_start", "join", "parse_share"]
