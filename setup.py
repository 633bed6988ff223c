"""Builds the mod_wsgi_rs wheel with setuptools-rust.

Why setuptools-rust and not maturin: the wheel carries two cargo artifacts
of two workspace crates, the Apache module (a cdylib that is not a Python
extension module: Binding.NoBinding copies it into the package) and the
mod-wsgi-rs command (RustBin: installed into the environment's bin/).
maturin packages one crate's artifact per wheel. Both backends come from
PyPI; pip's build isolation fetches setuptools, setuptools-rust and wheel.

The module is built without the `bindgen` feature and with the Apache
bindings kept in the repository (MOD_WSGI_RS_BINDINGS=kept, see build.rs),
so the build needs Rust and the Python's headers, but neither apache2-dev
nor libclang; installing the wheel needs neither Rust nor a compiler.
"""

import os
import re
import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools_rust import Binding, RustBin, RustExtension

HERE = Path(__file__).resolve().parent


def cargo_version():
    """The module's version, from Cargo.toml's [package] (one source)."""
    text = (HERE / "Cargo.toml").read_text()
    package = text.split("[package]", 1)[1]
    return re.search(r'^version\s*=\s*"([^"]+)"', package, re.M).group(1)


# (setuptools-rust's env= replaces the whole environment, PATH included, so
# the setting goes into this process's environment, which cargo inherits.)
os.environ.setdefault("MOD_WSGI_RS_BINDINGS", "kept")
# Its own cargo target directory per Python (pyo3 is built for one), away
# from target/release, which a source build (scripts/build) uses.
os.environ.setdefault(
    "CARGO_TARGET_DIR", str(HERE / "target" / ("wheel-py%d%d" % sys.version_info[:2]))
)

setup(
    version=cargo_version(),
    package_dir={"": "python"},
    packages=find_packages("python"),
    rust_extensions=[
        RustExtension(
            "mod_wsgi_rs.libmod_wsgi_rs",
            path="Cargo.toml",
            binding=Binding.NoBinding,
            args=["--locked", "--no-default-features"],
            py_limited_api=False,
        ),
        RustBin("mod-wsgi-rs", path="cli/Cargo.toml", args=["--locked"]),
    ],
    zip_safe=False,
)
