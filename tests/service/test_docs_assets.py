"""/docs and /redoc load everything from this server: no CDN, no font service, no validator."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

#: Every URL a page names: src and href attributes, and the document's url in the script.
REFS = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|\burl:\s*["']([^"']+)["']""")
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documents_load_every_asset_from_this_server(page: str) -> None:
    app = create_app(ServiceSettings(), node=Node.in_memory(), keys=KeyStore())
    with TestClient(app) as client:
        r = client.get(page)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        refs = [a or b for a, b in REFS.findall(r.text)]
        assert len(refs) >= 3, refs  # script, style or favicon, the document
        assert "googleapis" not in r.text and "cdn." not in r.text
        assert "openapi.json" in " ".join(refs)
        for ref in refs:
            assert not REMOTE.match(ref), f"{page} loads {ref} from elsewhere"
            asset = client.get(urljoin(f"http://testserver{page}", ref))
            assert asset.status_code == 200 and asset.content, ref
            if ref.endswith(".css"):  # a style sheet's own url(...)s are local too
                for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", asset.text):
                    assert url.startswith("data:") or not REMOTE.match(url), url
        if page == "/docs":  # Swagger UI's online validator badge would call out
            assert '"validatorUrl": null' in r.text
