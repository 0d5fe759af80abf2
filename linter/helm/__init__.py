"""Offline Helm chart rendering (owned by the Helm work; placeholder until it lands)."""
