"""Pages and the glossary JSON API over HTTP, including bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.unit.test_content import EXPECTED_TERMS


@pytest.mark.parametrize("slug", sorted(EXPECTED_TERMS))
def test_every_term_page_shows_its_title_level_and_math(client, slug: str) -> None:
    response = client.get(f"/terms/{slug}")
    assert response.status_code == 200
    title, level = EXPECTED_TERMS[slug]
    html = response.text
    assert f"<h1>{title}</h1>" in html
    assert f'class="level level-{level}"' in html
    assert "<math" in html


@pytest.mark.parametrize(
    ("alias", "slug"),
    [
        ("direct-preference-optimization", "dpo"),
        ("supervised-fine-tuning", "sft"),
        ("reinforcement-learning-from-human-feedback", "rlhf"),
        ("backprop", "backpropagation"),
        ("knowledge-distillation", "distillation"),
    ],
)
def test_aliases_redirect_permanently(client, alias: str, slug: str) -> None:
    response = client.get(f"/terms/{alias}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/terms/{slug}"


def test_home_lists_every_term_and_filters_by_level(client) -> None:
    home = client.get("/").text
    for title, _level in EXPECTED_TERMS.values():
        assert title in home
    advanced = client.get("/?level=advanced").text
    grid = advanced[advanced.index('id="term-grid"') : advanced.index('class="az"')]
    assert "QLoRA" in grid and "Gradient Descent" not in grid
    # The glossary rates no term beginner: the filter does not offer that level, and an old link
    # to it says so and leads to the first step of the learning path (order 1: Loss Function).
    assert "?level=beginner" not in home and "?level=intermediate" in home
    beginner = client.get("/?level=beginner")
    grid = beginner.text[beginner.text.index('id="term-grid"') : beginner.text.index('class="az"')]
    assert beginner.status_code == 200 and 'class="card-title' not in grid
    assert "No term is at level <strong>beginner</strong>" in grid
    assert 'starts with <a href="/terms/loss-function">Loss Function</a>' in grid
    bogus = client.get("/?level=expert")
    assert bogus.status_code == 422 and bogus.headers["content-type"].startswith("text/html")
    assert 'id="term-grid"' in bogus.text  # a page a person can use, not JSON


def test_terms_are_found_whatever_their_case(client) -> None:
    for typed, slug in [("LoRA", "lora"), ("DPO", "dpo"), ("Gradient-Descent", "gradient-descent")]:
        response = client.get(f"/terms/{typed}", follow_redirects=False)
        assert response.status_code == 301 and response.headers["location"] == f"/terms/{slug}"
    assert client.get("/terms/no-such-term", follow_redirects=False).status_code == 404


def test_api_docs_work_offline_under_the_site_csp(client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "script-src 'self'" in docs.headers["content-security-policy"]
    scripts = docs.text.count("<script")
    assert scripts == docs.text.count("<script src=")  # no inline script for the CSP to block
    assert "cdn." not in docs.text and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/static/vendor/swagger-ui/{asset}").status_code == 200


def test_term_page_has_breadcrumb_related_backlinks_references_and_neighbours(client) -> None:
    html = client.get("/terms/dpo").text
    for marker in (
        'aria-label="Breadcrumb"',
        "Related terms",
        "Mentioned in",
        "References",
        'rel="next"',
        'rel="prev"',
        "arxiv.org/abs/2305.18290",
    ):
        assert marker in html


def test_category_page(client) -> None:
    response = client.get("/categories/training")
    assert response.status_code == 200 and "Supervised Fine-Tuning" in response.text


def test_category_page_and_playground_list_in_learning_order(client) -> None:
    cards = client.get("/categories/training").text.split("in learning order</h2>")[1]
    assert cards.index("Loss Function") < cards.index("Pretraining") < cards.index("Direct Preference Optimization")
    playground = client.get("/playground").text
    demo_index = playground.split('class="demo-index"')[1].split("</nav>")[0]
    assert demo_index.index("#playground-gradient-descent") < demo_index.index("#playground-dpo")


def test_pages_use_etags_and_gzip(client) -> None:
    first = client.get("/terms/lora", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    again = client.get("/terms/lora", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_content_security_policy_forbids_inline_script(client) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in client.get("/terms/gradient-descent").text  # every script has a src


def test_search_page_and_suggestions(client) -> None:
    assert "Gradient Descent" in client.get("/search", params={"q": "gradeint descent"}).text
    fragment = client.get("/search/suggest", params={"q": "dpo"}).text
    assert fragment.lstrip().startswith("<ul") and "/terms/dpo" in fragment


def test_api_terms_and_one_term(client) -> None:
    terms = client.get("/api/terms").json()
    assert len(terms) == 18
    assert set(terms[0]) >= {"slug", "title", "category", "level", "summary", "demo", "url"}
    dpo = client.get("/api/terms/dpo").json()
    assert dpo["title"] == "Direct Preference Optimization" and "<math" in dpo["html"]
    assert dpo["references"] and dpo["related"]


def test_search_page_says_once_what_it_searched_for(client) -> None:
    text = client.get("/search", params={"q": "lerning rat"}).text
    assert "for <strong>learning rat</strong>, the nearest spelling to “lerning rat”" in text
    assert "Showing results for" not in text and "results for “lerning rat”" not in text
    assert "No results for “zzqxv”." in client.get("/search", params={"q": "zzqxv"}).text


def test_api_search_ranks_acronyms_first(client) -> None:
    for query, slug in [("DPO", "dpo"), ("SFT", "sft"), ("RLHF", "rlhf")]:
        assert client.get("/api/search", params={"q": query}).json()["results"][0]["slug"] == slug


def test_search_query_over_200_characters_is_422_naming_the_field(client) -> None:
    for path in ("/api/search", "/search", "/search/suggest"):
        response = client.get(path, params={"q": "x" * 201})
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "q"
        assert "200" in response.json()["detail"][0]["message"]


def test_unknown_term_gives_html_404_with_suggestions(client) -> None:
    response = client.get("/terms/gradient-decent")
    assert response.status_code == 404
    assert "Perhaps you meant" in response.text and "/terms/gradient-descent" in response.text


def test_api_404_is_json(client) -> None:
    response = client.get("/api/terms/nope")
    assert response.status_code == 404 and response.json() == {"detail": "No term 'nope'."}
    assert client.get("/api/nothing").json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "path",
    [
        "/terms/..%2F..%2Fetc%2Fpasswd",
        "/terms/../../etc/passwd",
        "/static/..%2F..%2Fapp%2Fmain.py",
        "/terms/%00",
    ],
)
def test_path_traversal_is_404(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "create_app" not in response.text and "root:" not in response.text


def test_healthz_and_openapi(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/terms", "/api/search", "/api/demos/gradient-descent/runs", "/api/runs/{run_id}/events"} <= set(paths)


def test_the_web_process_never_imports_torch() -> None:
    """The one check that every demo declaration (the app loads them all), the site and the engine
    stay torch-free: a web process that imported torch would take seconds and hundreds of MB."""
    code = (
        "import sys; from app.main import create_app; create_app(); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith('app.training')); "
        "assert not heavy, heavy; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


def test_static_assets_revalidate_by_etag(client) -> None:
    first = client.get("/static/js/playground.js")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    again = client.get("/static/js/playground.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
