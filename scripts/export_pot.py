"""``make pot``: export ``i18n/external_calendar_api.pot`` with Odoo's own exporter.

The addon is installed in a new database on a throw-away cluster, and Odoo's
``i18n export`` writes the template of every translatable text: fields,
views, data, ``_()``/``env._()`` in the models and ``_lt()`` marks in
``booking_feed``. Then update each language with ``msgmerge --update
i18n/LANG.po i18n/external_calendar_api.pot`` (Debian's gettext) and
translate what it left empty; ``make test`` fails while a text has no
translation in a language we ship.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from devenv import MODULE, ROOT, addons_path, clean_copy, install_module, throwaway_odoo, write_odoo_config

POT = ROOT / "i18n" / f"{MODULE}.pot"
DATABASE = "external_calendar_pot"


def main():
    POT.parent.mkdir(exist_ok=True)
    with throwaway_odoo("ext-cal-pot-") as (throwaway_config, cluster), tempfile.TemporaryDirectory() as copy:
        paths = f"{addons_path().rsplit(',', 1)[0]},{clean_copy(copy)}"
        config = write_odoo_config(throwaway_config, cluster, Path(copy) / "filestore", addons_path=paths)
        install_module(config, DATABASE)
        # Odoo's subcommands come before their options.
        export = [sys.executable, "-m", "odoo", "i18n", "export", "-c", str(config), "-d", DATABASE]
        subprocess.run([*export, MODULE, "-o", str(POT)], check=True)
    print(f"Wrote {POT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
