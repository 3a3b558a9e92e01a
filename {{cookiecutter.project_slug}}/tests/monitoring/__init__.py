"""Monitoring, the traffic simulator and retraining on feedback."""
