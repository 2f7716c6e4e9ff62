"""The memory calculator's fragments: presets, live results, and bad input."""

from __future__ import annotations


def test_presets_render_the_whole_calculator(client) -> None:
    seven = client.get("/tools/memory-calculator").text
    assert 'class="memory-calculator"' in seven and 'name="hidden" value="4096"' in seven
    assert "3.81 GB" in seven  # 3.61 GB of NF4 weights + 0.20 GB of adapters, grads and Adam state
    seventy = client.get("/tools/memory-calculator", params={"preset": "70b"}).text
    assert 'name="layers" value="80"' in seventy
    assert client.get("/tools/memory-calculator", params={"preset": "13b"}).status_code == 422


def test_result_fragment_follows_the_form(client) -> None:
    fields = {"params_billion": 70, "fmt": "bf16", "hidden": 8192, "layers": 80, "rank": 8, "matrices_per_layer": 2}
    html = client.get("/tools/memory-calculator/result", params=fields).text
    assert "140.00 GB" in html and "1120 GB for full fine-tuning" in html
    assert '<tr class="chosen"><th scope="row">bf16</th>' in html


def test_bad_input_is_a_422_fragment_naming_the_field(client) -> None:
    response = client.get("/tools/memory-calculator/result", params={"rank": 0, "fmt": "fp8"})
    assert response.status_code == 422
    assert "LoRA rank must be at least 1." in response.text
    assert "Base weights stored as must be one of fp32, bf16, int8, nf4, nf4-dq." in response.text
    many = client.get("/tools/memory-calculator/result", params={"hidden": "1.5", "params_billion": 20_000}).text
    assert "Hidden size must be a whole number." in many and "Parameters (billions) must be at most 10,000." in many
    assert client.get("/tools/memory-calculator/result", params={"params_billion": "nan"}).status_code == 422
