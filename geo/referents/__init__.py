"""Référents and correspondants sûreté, their towns, audit requests, cameras, camera sites, conventions and CSI."""
