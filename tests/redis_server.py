"""A real redis-server for the tests: support/redis_server.py's, under the name the tests import."""

from support.redis_server import RedisServer, redis_binary

__all__ = ["RedisServer", "redis_binary"]
