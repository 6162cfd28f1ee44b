"""Import of the four real camera lists and of small hostile or broken lists."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from govportal.cameras.admin import CameraStreamForm
from govportal.cameras.importer import import_camera_list
from govportal.cameras.models import ApprovedStreamHost, Camera, StreamKind
from govportal.cameras.sources import CameraListError
from govportal.publishing.models import Revision, Transition
from govportal.publishing.states import State

DATA = Path(__file__).resolve().parents[2] / "src/govportal/cameras/data"
TDX = DATA / "freeway-nfb-tdx-cctvlist-2026-07-28.xml"
V11 = DATA / "freeway-nfb-cctv-info-v1.1-2022-11-02.xml"
KAOHSIUNG = DATA / "kaohsiung-traffic-cctv-2026-07.json"
TAIPEI = DATA / "taipei-traffic-cctv-positions.json"


def run_import(path_or_data, agency, editor, dry_run=False):
    if isinstance(path_or_data, Path):
        data, name = path_or_data.read_bytes(), path_or_data.name
    else:
        data, name = path_or_data, "test-list"
    return import_camera_list(data, agency, editor, source_list=name, dry_run=dry_run)


def current(camera: Camera) -> Revision:
    assert camera.current_revision is not None
    return camera.current_revision


def kaohsiung_record(**changes):
    record = {
        "id": "C000001",
        "name": "中山一路、中正三路",
        "position": {"lat": 22.63, "lng": 120.30},
        "url": "https://cctv1.kctmc.nat.gov.tw/abc/",
        "videoUrl": "https://cctv1.kctmc.nat.gov.tw/abc/",
        "imageUrl": "https://cctv1.kctmc.nat.gov.tw/abc/snapshot",
    }
    record.update(changes)
    return record


def as_json(*records):
    return json.dumps(list(records), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("path", "total", "created", "rejected", "not_publishable"),
    [
        # Nothing is publishable before the agency approves its stream hosts.
        (TDX, 1911, 1892, 19, 1892),
        (V11, 1846, 1822, 24, 1822),
        (KAOHSIUNG, 580, 577, 3, 577),
        (TAIPEI, 416, 416, 0, 416),
    ],
)
def test_real_list_imports_twice(
    agency, editor, path, total, created, rejected, not_publishable
):
    first = run_import(path, agency, editor)

    assert first.total == total
    assert first.created == created
    assert first.updated == 0
    assert len(first.rejected) == rejected
    assert sum(first.not_publishable.values()) == not_publishable
    assert Camera.objects.count() == created
    revisions = Revision.objects.count()
    assert revisions == created

    second = run_import(path, agency, editor)

    assert second.created == 0
    assert second.updated == 0
    assert second.unchanged == created
    assert len(second.rejected) == rejected
    assert Camera.objects.count() == created
    assert Revision.objects.count() == revisions


def test_tdx_camera_content(agency, editor):
    for host in ("cctvn", "cctvc", "cctvs", "cctvn5"):
        ApprovedStreamHost.objects.create(agency=agency, host=f"{host}.freeway.gov.tw")
    run_import(TDX, agency, editor)

    camera = Camera.objects.get(source_id="CCTV-N1-S-0.000-M")
    snapshot = current(camera).snapshot
    assert camera.state == State.DRAFT
    assert camera.source_list == TDX.name
    assert camera.is_publishable
    assert snapshot["name"] == "國道1號 0K+000 南向"
    assert snapshot["road"] == "國道1號"
    assert snapshot["direction"] == "S"
    assert snapshot["section"] == "基隆端–基隆交流道"
    assert snapshot["stream_kind"] == StreamKind.MJPEG
    assert snapshot["stream_url"] == (
        "https://cctvn.freeway.gov.tw/abs2mjpg/bmjpg?camera=10000"
    )
    assert snapshot["latitude"] == pytest.approx(25.1229931)
    assert snapshot["longitude"] == pytest.approx(121.735695)


def test_tdx_rejects_zero_coordinates(agency, editor):
    report = run_import(TDX, agency, editor)

    reasons = {rejection.reason.split(":")[0] for rejection in report.rejected}
    assert reasons == {"invalid coordinates"}
    assert report.rejected[0].source_id == "CCTV-N1-S-262.450-M"


def test_v11_rejects_duplicates_and_coordinates(agency, editor):
    report = run_import(V11, agency, editor)

    duplicates = [r for r in report.rejected if r.reason.startswith("duplicate")]
    coordinates = [r for r in report.rejected if "coordinates" in r.reason]
    assert len(duplicates) == 22
    assert len(coordinates) == 2
    assert report.not_publishable == {"no stream address": 1822}
    camera = Camera.objects.get(source_id="nfbCCTV-N1-S-0.01-M")
    assert camera.stream_problem == "no stream address"
    assert current(camera).snapshot["stream_url"] == ""


def test_kaohsiung_rejects_websocket_streams(agency, editor):
    report = run_import(KAOHSIUNG, agency, editor)

    assert {r.source_id for r in report.rejected} == {
        "C000035",
        "C000337",
        "C000314",
    }
    assert all("'wss'" in r.reason for r in report.rejected)


def test_kaohsiung_prefers_https_stream(agency, editor):
    run_import(KAOHSIUNG, agency, editor)

    streams = [
        current(camera).snapshot["stream_url"]
        for camera in Camera.objects.select_related("current_revision")
    ]
    assert not any(url.startswith("http:") for url in streams)


def test_approving_hosts_makes_cameras_publishable(agency, editor):
    run_import(KAOHSIUNG, agency, editor)
    for number in range(1, 11):
        ApprovedStreamHost.objects.create(
            agency=agency, host=f"cctv{number}.kctmc.nat.gov.tw"
        )
    for number in range(4, 8):
        host = f"cctv-ss{number:02}.thb.gov.tw"
        ApprovedStreamHost.objects.create(agency=agency, host=host)
    # The freeway cameras in Kaohsiung's list stream from the Freeway
    # Bureau's host, which Kaohsiung has to be allowed to show as well.
    ApprovedStreamHost.objects.create(agency=agency, host="cctvs.freeway.gov.tw")

    report = run_import(KAOHSIUNG, agency, editor)

    assert report.unchanged == 577
    assert report.not_publishable == {}
    assert not Camera.objects.exclude(stream_problem="").exists()


def test_taipei_positions_only(agency, editor):
    run_import(TAIPEI, agency, editor)

    camera = Camera.objects.get(source_id="001-市民快承德")
    snapshot = current(camera).snapshot
    assert snapshot["name"] == "市民快承德"
    assert snapshot["latitude"] == pytest.approx(25.04855)
    assert snapshot["longitude"] == pytest.approx(121.5169)
    assert not camera.is_publishable


def test_changed_record_gets_new_revision(agency, editor):
    run_import(as_json(kaohsiung_record()), agency, editor)

    report = run_import(as_json(kaohsiung_record(name="新名稱")), agency, editor)

    assert report.updated == 1
    camera = Camera.objects.get()
    assert current(camera).number == 2
    assert current(camera).snapshot["name"] == "新名稱"
    assert Transition.objects.count() == 2


def test_dry_run_writes_nothing(agency, editor):
    report = run_import(TDX, agency, editor, dry_run=True)

    assert report.created == 1892
    assert Camera.objects.count() == 0
    assert Revision.objects.count() == 0
    assert Transition.objects.count() == 0


def test_dry_run_counts_updates(agency, editor):
    run_import(as_json(kaohsiung_record()), agency, editor)

    report = run_import(
        as_json(kaohsiung_record(name="新名稱")), agency, editor, dry_run=True
    )

    assert report.updated == 1
    assert current(Camera.objects.get()).number == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<CCTVList><CCTVs><CCTV>", "not well-formed"),
        (b'[{"id": "C1",', "not valid JSON"),
        (b"", "empty"),
        (b"id,name\nC1,x\n", "neither XML nor JSON"),
        (b"<rss><channel/></rss>", "not a known camera list"),
        (b'{"items": []}', "not a known camera list"),
    ],
)
def test_unreadable_file_stores_nothing(agency, editor, data, message):
    with pytest.raises(CameraListError, match=message):
        run_import(data, agency, editor)

    assert Camera.objects.count() == 0


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE XML_Head [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<XML_Head version="1.1"><Infos>
<Info cctvid="&secret;" roadsection="x" px="121.5" py="25.0"/>
</Infos></XML_Head>"""

LAUGHS = b"""<?xml version="1.0"?>
<!doctype lolz [<!entity lol "lol"><!entity lol2 "&lol;&lol;&lol;&lol;">]>
<XML_Head version="1.1"><Infos><Info cctvid="&lol2;"/></Infos></XML_Head>"""


@pytest.mark.parametrize("data", [XXE, LAUGHS])
def test_xml_with_doctype_rejected(agency, editor, data):
    with pytest.raises(CameraListError, match="DOCTYPE"):
        run_import(data, agency, editor)

    assert Camera.objects.count() == 0


def test_utf16_doctype_rejected(agency, editor):
    # The byte scan misses UTF-16 text, so the parsed document is checked too.
    with pytest.raises(CameraListError):
        run_import(
            XXE.decode().replace("utf-8", "utf-16").encode("utf-16"), agency, editor
        )

    assert Camera.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "scheme 'javascript'"),
        ('https://cctv1.kctmc.nat.gov.tw/a" onload="x', "not allowed"),
        ("https://admin:pw@cctv1.kctmc.nat.gov.tw/", "user name or password"),
        ("<iframe src=x>", "HTML, not a URL"),
    ],
)
def test_hostile_stream_rejected(agency, editor, url, reason):
    data = as_json(kaohsiung_record(url=url, videoUrl=url))

    report = run_import(data, agency, editor)

    assert report.created == 0
    assert len(report.rejected) == 1
    assert reason in report.rejected[0].reason
    assert Camera.objects.count() == 0


def test_http_stream_stored_not_publishable(agency, editor):
    url = "http://cctv1.kctmc.nat.gov.tw/video.mjpg"
    data = as_json(kaohsiung_record(url=url, videoUrl=url, imageUrl=""))

    report = run_import(data, agency, editor)

    assert report.created == 1
    assert report.not_publishable == {"stream not https": 1}
    camera = Camera.objects.get()
    assert camera.stream_problem == "stream not https"
    assert current(camera).snapshot["stream_url"] == url


def test_token_in_stream_warned(agency, editor):
    url = "https://cctv1.kctmc.nat.gov.tw/video.mjpg?token=s3cret"
    data = as_json(kaohsiung_record(url=url, videoUrl=url))

    report = run_import(data, agency, editor)

    assert report.warnings == 1
    assert "'token'" in Camera.objects.get().stream_warnings[0]


def test_command_prints_summary(agency, editor):
    output = StringIO()

    call_command(
        "cameras",
        "import",
        str(KAOHSIUNG),
        "--agency",
        agency.code,
        "--user",
        "importer",
        stdout=output,
    )

    text = output.getvalue()
    assert "580 records, 577 created, 0 updated, 0 unchanged, 3 rejected" in text
    assert "555\tstream host not approved; snapshot host not approved" in text
    assert "22\tstream host not approved\n" in text
    assert "record 118\tC000035" in text


def test_command_reports_broken_file(agency, editor, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<CCTVList>")

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "cameras",
            "import",
            str(broken),
            "--agency",
            agency.code,
            "--user",
            "importer",
        )


def test_command_dry_run(agency, editor):
    output = StringIO()

    call_command(
        "cameras",
        "import",
        str(TAIPEI),
        "--agency",
        agency.code,
        "--user",
        "importer",
        "--dry-run",
        stdout=output,
    )

    assert output.getvalue().startswith("Dry run, nothing written")
    assert Camera.objects.count() == 0


def test_admin_form_rejects_javascript(agency, editor):
    run_import(as_json(kaohsiung_record()), agency, editor)
    camera = Camera.objects.get()
    form = CameraStreamForm(
        data={"stream_kind": "embed_page", "stream_url": "javascript:alert(1)"},
        instance=camera,
    )

    assert not form.is_valid()
    assert "scheme 'javascript'" in form.errors["stream_url"][0]


def test_admin_form_requires_approved_host(agency, editor):
    run_import(as_json(kaohsiung_record()), agency, editor)
    camera = Camera.objects.get()
    data = {"stream_kind": "embed_page", "stream_url": "https://evil.test/player"}

    form = CameraStreamForm(data=data, instance=camera)

    assert not form.is_valid()
    assert "not approved" in form.errors["stream_url"][0]


@pytest.mark.parametrize("kind", ["mjpeg", "jpeg_snapshot", "hls", "embed_page"])
def test_admin_form_requires_approved_host_for_every_kind(agency, editor, kind):
    ApprovedStreamHost.objects.create(agency=agency, host="cctv1.kctmc.nat.gov.tw")
    run_import(as_json(kaohsiung_record()), agency, editor)
    camera = Camera.objects.get()
    data = {"stream_kind": kind, "stream_url": "https://evil.example/live"}

    form = CameraStreamForm(data=data, instance=camera)

    assert not form.is_valid()
    assert (
        "'evil.example' of 'https://evil.example/live' is not approved"
        in (form.errors["stream_url"][0])
    )
    approved = {"stream_kind": kind, "stream_url": "https://cctv1.kctmc.nat.gov.tw/a"}
    assert CameraStreamForm(data=approved, instance=camera).is_valid()


def test_invisible_characters_removed_from_names(agency, editor):
    record = kaohsiung_record(name="\u202e博愛路\u200b、九如路\x07")
    run_import(as_json(record), agency, editor)
    assert current(Camera.objects.get()).snapshot["name"] == "博愛路、九如路"


def test_overlong_name_rejected_with_its_length(agency, editor):
    report = run_import(as_json(kaohsiung_record(name="路" * 200_000)), agency, editor)
    assert report.created == 0
    assert report.rejected[0].reason.startswith(
        "name is 200000 characters long, the maximum is 200"
    )


def test_source_id_with_bidi_character_rejected(agency, editor):
    report = run_import(as_json(kaohsiung_record(id="C0001\u202e")), agency, editor)
    assert report.created == 0
    assert "bidirectional" in report.rejected[0].reason


def test_large_import_commits_in_chunks(agency, editor, monkeypatch):
    """Short transactions let camera checks write while a big list imports."""
    from django.db import transaction

    from govportal.cameras import importer

    sizes = []
    real_store = importer._store

    def counting_store(prepared, *args):
        assert transaction.get_connection().in_atomic_block
        sizes.append(len(prepared))
        return real_store(prepared, *args)

    monkeypatch.setattr(importer, "_store", counting_store)
    records = [kaohsiung_record(id=f"C{n:05d}") for n in range(450)]

    report = run_import(as_json(*records), agency, editor)

    assert report.created == 450
    assert sizes == [200, 200, 50]
    assert Camera.objects.count() == 450


def test_command_names_records_with_warnings(agency, editor, tmp_path):
    ApprovedStreamHost.objects.create(agency=agency, host="cctv1.kctmc.nat.gov.tw")
    url = "https://cctv1.kctmc.nat.gov.tw/abc/?token=s3cret"
    path = tmp_path / "token-list.json"
    path.write_bytes(as_json(kaohsiung_record(id="C-TOKEN", videoUrl=url, url=url)))
    output = StringIO()

    call_command(
        "cameras",
        "import",
        str(path),
        "--agency",
        agency.code,
        "--user",
        "importer",
        stdout=output,
    )

    text = output.getvalue()
    assert "1 warnings about stream URLs:" in text
    assert "  C-TOKEN\tThe query parameter 'token' looks like a token" in text


def test_ids_of_another_agency_reported(agency, editor):
    from tests.publishing.helpers import make_agency

    other = make_agency("397290000H", "高雄市政府交通局")
    run_import(as_json(kaohsiung_record()), other, editor)

    report = run_import(as_json(kaohsiung_record()), agency, editor)

    assert report.other_agencies == [("397290000H", "高雄市政府交通局", 1)]


def test_changed_id_with_same_stream_reported(agency, editor, tmp_path):
    run_import(as_json(kaohsiung_record(id="C-OLD")), agency, editor)
    path = tmp_path / "renamed.json"
    path.write_bytes(as_json(kaohsiung_record(id="C-NEW")))
    output = StringIO()

    call_command(
        "cameras",
        "import",
        str(path),
        "--agency",
        agency.code,
        "--user",
        "importer",
        stdout=output,
    )

    text = output.getvalue()
    assert "1 records stream the same URL as a stored camera" in text
    assert "  C-NEW\tsame stream as C-OLD" in text
    assert Camera.objects.filter(source_id="C-OLD").exists()
