#!/usr/bin/python3
"""nova-fake.py PORT KEYSTONE_URL PASTE_INI [SPAWN_SECONDS]

Serves Debian's python3-nova compute API (osapi_compute, v2.1) on 127.0.0.1:PORT for skygraph's
integration tests. Conductor, scheduler and compute run in this process on Nova's own functional
test harness: the fake virt driver, in-memory sqlite, in-process placement, fixture Glance and
Neutron. Requests are authenticated by the real keystonemiddleware against KEYSTONE_URL.
RPC casts stay asynchronous and the fake driver's spawn takes SPAWN_SECONDS (default 1), so a new
server is seen in BUILD before it turns ACTIVE. All state is in memory. SIGTERM stops it.
"""
import os
import signal
import sys
import unittest

PORT, KEYSTONE, PASTE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
SPAWN_SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
os.environ.setdefault('OS_TEST_TIMEOUT', '0')

from nova.tests.functional import integrated_helpers  # noqa: E402  (patches eventlet first)
from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.virt import fake as fake_virt  # noqa: E402
import eventlet  # noqa: E402
import fixtures  # noqa: E402
from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: E402


class _NoCastAsCall(fixtures.Fixture):
    """Keeps casts asynchronous, so POST /servers answers while the server is still building."""

    def __init__(self, test):
        super().__init__()


nova_fixtures.CastAsCallFixture = _NoCastAsCall
_spawn = fake_virt.FakeDriver.spawn


def _slow_spawn(self, *args, **kwargs):
    eventlet.sleep(SPAWN_SECONDS)
    return _spawn(self, *args, **kwargs)


fake_virt.FakeDriver.spawn = _slow_spawn


class _Log(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write('nova-fake: ' + (fmt % args) + '\n')


class NovaServe(integrated_helpers._IntegratedTestBase):
    ADMIN_API = True
    STUB_KEYSTONE = False

    def _setup_services(self):
        from keystoneauth1 import loading
        from keystonemiddleware.auth_token import _opts
        from oslo_config import cfg
        self.flags(api_paste_config=PASTE, group='wsgi')
        group = 'keystone_authtoken'
        for _name, opts in _opts.list_opts():
            cfg.CONF.register_opts(opts, group=group)
        loading.register_auth_conf_options(cfg.CONF, group)
        cfg.CONF.register_opts(loading.get_auth_plugin_conf_options('password'), group=group)
        settings = {
            'www_authenticate_uri': KEYSTONE, 'auth_url': KEYSTONE, 'auth_type': 'password', 'username': 'nova',
            'password': 'nova-service-pass', 'project_name': 'service', 'user_domain_id': 'default',
            'project_domain_id': 'default', 'interface': 'public',
        }
        for key, value in settings.items():
            self.flags(**{key: value}, group=group)
        super()._setup_services()

    def test_serve(self):
        server = make_server('127.0.0.1', PORT, self.api_fixture.app(), handler_class=_Log)

        def stop(*_):
            raise KeyboardInterrupt()

        signal.signal(signal.SIGTERM, stop)
        images = [i['id'] for i in self.glance.images.values()]
        print(f'nova-fake: ready on http://127.0.0.1:{PORT}/v2.1 images={images[:1]}', flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == '__main__':
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(NovaServe)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
