"""The teacher steers the class: a preset pushed to every student (its answer hidden until
revealed), a reference run pinned; only the teacher may, and not once the class has ended."""

from __future__ import annotations

import json
import time

from tests.api.test_classes import STUDENT, join, new_class, start, teacher
from tests.conftest import read_events, running_app


def steering_seen(client, code: str, student: dict) -> dict:
    """The first `steer` event a student's panel gets: the class's steering as it is now."""
    headers = {STUDENT: student["student_token"]}
    with client.stream("GET", f"/api/classes/{code}/steering", headers=headers) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[6:])
    raise AssertionError("no steer event")


def test_a_pushed_preset_reaches_every_student_and_its_answer_waits_for_the_reveal(tmp_path, backend) -> None:
    with running_app(tmp_path, **backend) as client:
        made = new_class(client)
        code = made["code"]
        students = [join(client, code) for _ in range(3)]
        assert steering_seen(client, code, students[0]) == {"version": 0, "preset": None, "reference": None}
        preset = {"params": {"lr": 0.11, "steps": 200}, "question": "At which step?", "answer": "Step 12"}
        pushed = client.put(f"/api/classes/{code}/preset", json=preset, headers=teacher(made))
        assert pushed.status_code == 200, pushed.text
        for student in students:
            seen = steering_seen(client, code, student)["preset"]
            assert seen == {"params": preset["params"], "question": "At which step?", "revealed": False}
        assert client.post(f"/api/classes/{code}/preset/reveal", headers=teacher(made)).status_code == 200
        assert steering_seen(client, code, students[1])["preset"]["answer"] == "Step 12"
        assert client.delete(f"/api/classes/{code}/preset", headers=teacher(made)).status_code == 200
        assert steering_seen(client, code, students[2])["preset"] is None  # the exercise ended


def test_a_pinned_reference_must_be_a_run_of_the_class_demo(client) -> None:
    made = new_class(client)
    code = made["code"]
    student = join(client, code)
    run = start(client, student, steps=3, pace=0).json()
    read_events(client, run["id"])
    unknown = client.put(f"/api/classes/{code}/reference", json={"run_id": "0123456789ab"}, headers=teacher(made))
    assert unknown.status_code == 422 and "run_id" in str(unknown.json())
    pinned = client.put(f"/api/classes/{code}/reference", json={"run_id": run["id"]}, headers=teacher(made))
    assert pinned.status_code == 200
    assert steering_seen(client, code, student)["reference"] == run["id"]


def test_only_the_teacher_steers_and_bad_settings_name_the_field(client) -> None:
    made = new_class(client)
    code = made["code"]
    student = join(client, code)
    preset = {"params": {"lr": 5}, "question": "Why?"}
    as_student = client.put(f"/api/classes/{code}/preset", json=preset, headers={STUDENT: student["student_token"]})
    assert as_student.status_code == 401
    bad = client.put(f"/api/classes/{code}/preset", json=preset, headers=teacher(made))
    assert bad.status_code == 422 and "params.lr" in str(bad.json()) and "1" in str(bad.json())
    assert client.post(f"/api/classes/{code}/preset/reveal", headers=teacher(made)).status_code == 409
    assert client.get(f"/api/classes/{code}/steering").status_code == 401


def test_an_ended_class_takes_no_steering(tmp_path) -> None:
    with running_app(tmp_path, class_hours=0.5 / 3600) as client:
        made = new_class(client)
        time.sleep(0.6)
        ended = client.put(f"/api/classes/{made['code']}/reference", json={"run_id": None}, headers=teacher(made))
        assert ended.status_code == 409 and "read-only" in ended.json()["detail"]
