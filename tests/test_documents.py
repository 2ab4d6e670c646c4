"""Documents at the window: material files checked by their content, kept in the document
store (files beside SQLite, a table in PostgreSQL), named in events by id, hash, size and type;
an electronic file is accepted only with every material its permits need."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable
from uuid import UUID

import httpx
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import (
    image_file,
    pdf_file,
    store_situation,
    submission,
    upload,
    upload_every_material,
)

HOTEL = make_uscc("91440604MA4DWC001")
OTHER = make_uscc("91440604MA4DWC002")


def _receive(client: httpx.Client, runtime: Runtime, clerk: str, uscc: str) -> str:
    body = submission(runtime, "open_hotel", uscc, "材料旅馆") | {"accept_now": False}
    response = client.post("/api/v1/applications", json=body, headers=auth(clerk))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _events(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def test_the_hotel_is_accepted_once_its_electronic_file_holds_every_material(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = token("clerk")
    with httpx.Client(base_url=server, timeout=30) as client:
        application_id = _receive(client, runtime, clerk, HOTEL)
        materials = client.get(
            f"/api/v1/applications/{application_id}/materials", headers=auth(clerk)
        ).json()["materials"]
        assert {m["status"] for m in materials} == {"on_paper"}  # no file yet: a paper file
        premises = next(m for m in materials if m["code"] == "premises_use_proof")
        assert "hotel_special_trade" in premises["permits"]

        # One scan of the lease, as a JPEG: the file is now electronic, and incomplete.
        lease = image_file("JPEG")
        attached = upload(
            client, clerk, application_id, "premises_use_proof", lease, "租赁合同.jpg"
        )
        assert attached.status_code == 201, attached.text
        document = attached.json()["documents"][0]
        assert document["media_type"] == "image/jpeg"
        assert document["sha256"] == hashlib.sha256(lease).hexdigest()
        assert document["size"] == len(lease) and document["reused"] is False
        refused = client.post(
            f"/api/v1/applications/{application_id}/acceptance",
            json={"decision": "accept"},
            headers=auth(clerk),
        )
        assert refused.status_code == 422, refused.text
        named = {e["name"] for e in refused.json()["errors"]}
        assert "materials.articles_of_association" in named
        assert "materials.premises_use_proof" not in named
        # The fire check's signed commitment was not given here, so its proofs are needed too.
        assert "materials.fire_acceptance_proof" in named

        done = upload_every_material(client, clerk, application_id)
        assert "articles_of_association" in done
        accepted = client.post(
            f"/api/v1/applications/{application_id}/acceptance",
            json={"decision": "accept"},
            headers=auth(clerk),
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "in_review"
        standing = client.get(
            f"/api/v1/applications/{application_id}/materials", headers=auth(clerk)
        ).json()["materials"]
        assert {m["status"] for m in standing} == {"documented"}

        # 材料同步流转: the police see their permit's materials, with links, and read them.
        police = auth(token("department", "police", sub="police-7"))
        desk = f"/api/v1/departments/police/tasks/{application_id}/hotel_special_trade"
        task = client.get(desk, headers=police).json()
        own = {m["code"]: m for m in task["materials"]}
        assert set(own) == {
            "legal_rep_id",
            "premises_use_proof",
            "premises_floor_plan",
            "security_rules",
            "cctv_acceptance",
        }
        assert {m["status"] for m in own.values()} == {"documented"}
        lease_link = own["premises_use_proof"]["documents"][0]["link"]
        read = client.get(lease_link, headers=police)
        assert read.status_code == 200 and read.content == lease
        assert read.headers["content-type"] == "image/jpeg"
        assert read.headers["cache-control"] == "no-store"
        # Not a material of its permit: 403, even through its own task.
        theirs = next(
            d for d in accepted.json()["documents"] if d["material"] == "food_safety_rules"
        )
        other = client.get(f"{desk}/documents/{theirs['document_id']}", headers=police)
        assert other.status_code == 403
        assert other.headers["content-type"] == "application/problem+json"
        # Another department: 403 on the police's desk, and on a task it does not have.
        fire = auth(token("department", "fire"))
        assert client.get(lease_link, headers=fire).status_code == 403
        fire_path = lease_link.replace("/departments/police/", "/departments/fire/")
        assert client.get(fire_path, headers=fire).status_code == 403
        # The one download is in the licence's audit trail: who, when, which file.
        trail = client.get(f"/api/v1/licences/{HOTEL}/history", headers=auth(clerk)).json()
        reads = [e for e in trail["events"] if e["what"] == "DocumentRead"]
        assert len(reads) == 1
        assert reads[0]["actor"]["id"] == "police-7"
        assert reads[0]["details"]["document_id"] == document["document_id"]
        assert reads[0]["details"]["material"] == "premises_use_proof"

    # The events name the file; the bytes are in the document store, and only there.
    application = runtime.licensing.application(UUID(application_id))
    assert runtime.documents.get(UUID(document["document_id"])) == lease
    events = runtime.app.recorder.select_events(application.id)
    attached_events = [e for e in events if e.topic.endswith("DocumentAttached")]
    assert len(attached_events) == len(application.documents) == len(done) + 1
    assert all(lease not in e.state for e in attached_events)
    assert set(runtime.documents.ids()) == {UUID(d) for d in application.documents}


def test_bad_uploads_are_refused_with_a_problem_and_nothing_is_stored(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = token("clerk")
    runtime.settings.document_max_bytes = 256 * 1024
    zip_bomb = io.BytesIO()
    with zipfile.ZipFile(zip_bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("营业执照.pdf", b"\0" * 20_000_000)
    pdf_bomb = _pdf_with_a_bomb()
    with httpx.Client(base_url=server, timeout=30) as client:
        application_id = _receive(client, runtime, clerk, OTHER)
        before = (_events(runtime), runtime.documents.ids())
        cases = [
            ("a Windows program named .pdf", b"MZ\x90\0" + b"\0" * 200, 415),
            ("a zip bomb named .pdf", zip_bomb.getvalue(), 415),
            ("a PDF whose stream inflates to 200 MB", pdf_bomb, 422),
            ("empty", b"", 422),
            ("oversize", pdf_file() + b"%" + b"\0" * 300_000 + b"\n%%EOF\n", 413),
            ("a truncated PNG", image_file("PNG")[:40], 422),
        ]
        for label, content, status in cases:
            response = upload(client, clerk, application_id, "premises_floor_plan", content)
            assert response.status_code == status, (label, response.text)
            assert response.headers["content-type"] == "application/problem+json", label
            assert response.json()["detail"], label
        wrong_material = upload(
            client, clerk, application_id, "pharmacist_registration", pdf_file()
        )
        assert wrong_material.status_code == 422
        assert wrong_material.json()["errors"][0]["name"] == "material"
        assert (_events(runtime), runtime.documents.ids()) == before


def _pdf_with_a_bomb() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    bomb = StreamObject()
    bomb._data = zlib.compress(b"\0" * 200_000_000, 9)
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[0][NameObject("/Thumb")] = writer._add_object(bomb)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PHARMACY = make_uscc("91440604MA4DWC003")


def test_a_second_application_reuses_three_archived_documents_kept_after_the_first_ends(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = token("clerk")
    with httpx.Client(base_url=server, timeout=30) as client:
        # The pharmacy files electronically; its accepted files join the business's archive.
        body = submission(runtime, "open_pharmacy", PHARMACY, "档案药房") | {"accept_now": False}
        first = client.post("/api/v1/applications", json=body, headers=auth(clerk)).json()["id"]
        upload_every_material(client, clerk, first)
        accepted = client.post(
            f"/api/v1/applications/{first}/acceptance",
            json={"decision": "accept"},
            headers=auth(clerk),
        )
        assert accepted.status_code == 200, accepted.text
        archive = client.get(f"/api/v1/archives/{PHARMACY}", headers=auth(clerk)).json()
        by_material = {d["material"]: d for d in archive["documents"]}
        assert {"legal_rep_id", "premises_use_proof", "premises_floor_plan"} <= set(by_material)
        assert all(d["application_id"] == first for d in archive["documents"])

        # The pharmacy application ends; its files stay in the archive.
        withdrawn = client.post(
            f"/api/v1/applications/{first}/withdrawal",
            json={"reason": "改为先开便利店"},
            headers=auth(clerk),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        kept = client.get(f"/api/v1/archives/{PHARMACY}", headers=auth(clerk)).json()
        assert kept == archive

        # The window opens the convenience store for the same business: three materials on file.
        situation = store_situation(sells_tobacco=True)
        asked = ",".join(f"{k}:{str(v).lower()}" for k, v in situation.items())
        theme = client.get(
            f"/api/v1/themes/open_convenience_store?situation={asked}&uscc={PHARMACY}"
        ).json()
        on_file = {m["code"]: m["on_file"] for m in theme["materials"] if m["on_file"]}
        reuse = ["legal_rep_id", "premises_use_proof", "premises_floor_plan"]
        assert set(reuse) <= set(on_file)
        ids = [on_file[code][0]["document_id"] for code in reuse]

        second = submission(runtime, "open_convenience_store", PHARMACY, "档案药房", situation)
        submitted = client.post(
            "/api/v1/applications", json=second | {"reuse": ids}, headers=auth(clerk)
        )
        assert submitted.status_code == 201, submitted.text
        application = submitted.json()
        assert application["status"] == "in_review"
        assert sorted(d["document_id"] for d in application["documents"]) == sorted(ids)
        assert all(d["reused"] for d in application["documents"])
        standing = client.get(
            f"/api/v1/applications/{application['id']}/materials", headers=auth(clerk)
        ).json()["materials"]
        assert {m["code"]: m["status"] for m in standing} == dict.fromkeys(reuse, "documented")

        # A file of another business's archive, or one that answers nothing asked: 422.
        stranger = submission(
            runtime, "open_convenience_store", make_uscc("91440604MA4DWC004"), "他店", situation
        )
        refused = client.post(
            "/api/v1/applications", json=stranger | {"reuse": ids[:1]}, headers=auth(clerk)
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["name"] == "reuse.0"
