"""Image service (Glance) client used by the API to validate imageRef."""
