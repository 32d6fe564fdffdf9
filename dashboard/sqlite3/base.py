"""Django's SQLite backend, which makes the folder of its database file when it first connects.

The default database is a file under VAR_DIR, which a fresh checkout does not have; the settings make
no folder when they load, so the first connection (a migrate, the test database) makes it.
"""

from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        database = str(conn_params["database"])
        if database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
