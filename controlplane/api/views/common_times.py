"""Time formatting shared by the admin resource views (Nova's form
``2024-01-31T12:00:00.000000``, naive UTC)."""


def iso(value):
    """A datetime as Nova prints it (``None`` stays ``None``)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
