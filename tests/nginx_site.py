"""Run nginx with deploy/nginx/stackone-connect.conf, unchanged, in front of the service (and optionally an app)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from tests.e2e_processes import ROOT
from tests.externals import require


def start_nginx(folder: Path, site_port: int, service_port: int, app_port: int | None = None) -> subprocess.Popen:
    """nginx on 127.0.0.1:site_port: /stackone_ to the service, / to the app on app_port when given."""
    nginx = require("nginx", "apt-get install nginx")
    app = textwrap.indent(textwrap.dedent(f"""
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $http_host;
        }}"""), "        ") if app_port else ""
    conf = folder / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""
        daemon off;
        worker_processes 1;
        pid {folder}/nginx.pid;
        error_log {folder}/nginx-error.log warn;
        events {{ worker_connections 64; }}
        http {{
            access_log {folder}/nginx-access.log;
            client_body_temp_path {folder}/body;
            proxy_temp_path {folder}/proxy;
            fastcgi_temp_path {folder}/fastcgi;
            uwsgi_temp_path {folder}/uwsgi;
            scgi_temp_path {folder}/scgi;
            upstream stackone_connect {{ server 127.0.0.1:{service_port}; }}
            server {{
                listen 127.0.0.1:{site_port};
                include {ROOT}/deploy/nginx/stackone-connect.conf;
        {app}
            }}
        }}
    """))
    return subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL,
                            stderr=open(folder / "nginx-stderr.log", "wb"))  # noqa: SIM115 - closed with nginx
