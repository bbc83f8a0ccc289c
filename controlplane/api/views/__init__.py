"""Response builders (views) of API resources."""
