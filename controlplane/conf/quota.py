"""[quota] defaults, as Nova's (``quota_class`` ``default`` overrides them)."""
from oslo_config import cfg

# resource name -> (default, help)
DEFAULTS = {
    "instances": (10, "Servers per project."),
    "cores": (20, "Virtual CPUs per project."),
    "ram": (51200, "RAM per project, in MiB."),
    "metadata_items": (128, "Metadata items per server."),
    "injected_files": (5, "Injected files per server."),
    "injected_file_content_bytes": (10240, "Bytes per injected file."),
    "injected_file_path_length": (255, "Length of an injected file path."),
    "key_pairs": (100, "Key pairs per user."),
    "server_groups": (10, "Server groups per project."),
    "server_group_members": (10, "Servers per server group."),
}

quota_opts = [cfg.IntOpt(name, default=value, min=-1, help=help_ + " -1 is unlimited.")
              for name, (value, help_) in DEFAULTS.items()]


def register_opts(conf):
    conf.register_opts(quota_opts, group="quota")


def list_opts():
    return [("quota", quota_opts)]
