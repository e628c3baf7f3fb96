"""The road network's GeoJSON (map.js's data), the roads page, the OSM upload, the roads API."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yigongti.emergency.models import RoadNetwork, Station
from yigongti.emergency.roads.geo import _chains, network_geojson
from yigongti.emergency.roads.graph import clear_cache

from .test_roads_osm import write_osm


@pytest.fixture(autouse=True)
def _fresh_graph():
    clear_cache()
    yield
    clear_cache()


def test_geojson_has_outline_roads_by_class_places_and_stations(ems):
    data = network_geojson(ems.network)
    layers = {}
    for f in data["features"]:
        layers.setdefault(f["properties"]["layer"], []).append(f)
    assert layers["boundary"][0]["geometry"]["type"] == "Polygon"
    roads = {f["properties"]["road_class"]: f for f in layers["roads"]}
    assert set(roads) == {"street", "national", "village", "county"}
    # the fixture stores each road both ways: drawn once (12 columns × 11 blocks + 12 rows × 11 blocks = 264)
    assert sum(f["properties"]["edges"] for f in roads.values()) == 264
    national = roads["national"]["geometry"]["coordinates"]
    # row 2 and the edges from it up to row 3 (the fixture counts them as the national road's): 11 + 12 segments
    assert sum(len(c) - 1 for c in national) == roads["national"]["properties"]["edges"] == 23
    assert {p["properties"]["code"] for p in layers["places"]} == set(ems.places)
    assert {s["properties"]["name"] for s in layers["stations"]} == set(Station.objects.values_list("name", flat=True))
    assert data["properties"]["network_id"] == ems.network.pk and data["properties"]["counts"]["nodes"] == 144
    only_major = network_geojson(ems.network, min_class="county")
    assert {f["properties"]["road_class"] for f in only_major["features"]
            if f["properties"]["layer"] == "roads"} == {"county", "national"}


def test_chains_split_at_junctions_and_keep_loops():
    import numpy as np

    # a T: 0-1-2 with 1-3, and a separate triangle 4-5-6
    a = np.array([0, 1, 1, 4, 5, 6])
    b = np.array([1, 2, 3, 5, 6, 4])
    chains = _chains(a, b)
    assert sorted(len(c) for c in chains) == [2, 2, 2, 4]
    assert sum(len(c) - 1 for c in chains) == 6


def test_geojson_endpoint_serves_with_etag_and_304(ems, client, login):
    login(ems.dispatcher)
    url = reverse("emergency:roads_geojson")
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/geo+json"
    body = json.loads(r.content)
    assert body["type"] == "FeatureCollection" and body["properties"]["labels"]["population"]
    again = client.get(url, HTTP_IF_NONE_MATCH=r["ETag"])
    assert again.status_code == 304
    Station.objects.filter(pk=ems.township_station.pk).update(name="新名字急救站")
    changed = client.get(url, HTTP_IF_NONE_MATCH=r["ETag"])
    assert changed.status_code == 200 and "新名字急救站" in changed.content.decode()


def test_geojson_needs_a_login_and_a_network(ems, client, login):
    url = reverse("emergency:roads_geojson")
    assert client.get(url).status_code == 302
    login(ems.dispatcher)
    RoadNetwork.objects.update(active=False)
    assert client.get(url).status_code == 404


def test_roads_page_shows_the_map_and_counts(ems, client, login):
    login(ems.cast.manager)
    r = client.get(reverse("emergency:roads"))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="roads-map"' in html and "emergency/map.js" in html and "vendor/echarts" in html
    assert "国道" in html and 'data-testid="roads-import"' in html
    login(ems.dispatcher)
    assert 'data-testid="roads-import"' not in client.get(reverse("emergency:roads")).content.decode()


def test_the_bureau_uploads_an_osm_file(ems, client, login, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = write_osm(tmp_path, ems.cast)
    login(ems.cast.bureau)
    upload = SimpleUploadedFile("lanshan.osm", path.read_bytes(), content_type="application/xml")
    r = client.post(reverse("emergency:roads_import"), {"file": upload, "name": "蓝山OSM"}, follow=True)
    assert r.status_code == 200 and "已导入路网" in r.content.decode()
    net = RoadNetwork.objects.get(active=True)
    assert net.name == "蓝山OSM" and net.source == "osm"


def test_an_upload_of_the_wrong_kind_or_by_a_dispatcher_is_refused(ems, client, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(ems.cast.bureau)
    r = client.post(reverse("emergency:roads_import"), {"file": SimpleUploadedFile("x.txt", b"hello")}, follow=True)
    assert "只支持" in r.content.decode()
    assert RoadNetwork.objects.get(active=True) == ems.network
    login(ems.dispatcher)
    r = client.post(reverse("emergency:roads_import"), {"file": SimpleUploadedFile("x.osm", b"<osm/>")})
    assert r.status_code == 403


def test_api_route_and_nearest(ems, client, login):
    login(ems.dispatcher)
    a, b = ems.node(0, 2), ems.node(5, 2)
    r = client.get("/api/v1/emergency/roads/route", {"from_lon": a.lon, "from_lat": a.lat, "to_lon": b.lon,
                                                     "to_lat": b.lat})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["reachable"] and body["road_m"] == pytest.approx(5000) and len(body["coordinates"]) == 6
    assert body["eta_s"] == pytest.approx(5000 / (70 / 3.6), abs=0.1)
    r = client.get("/api/v1/emergency/roads/nearest", {"lon": a.lon + 0.001, "lat": a.lat})
    assert r.json()["node_id"] == a.pk
    assert client.get("/api/v1/emergency/roads/nearest", {"lon": 500, "lat": 0}).status_code == 422
    nets = client.get("/api/v1/emergency/roads/networks").json()
    assert nets[0]["id"] == ems.network.pk
    geo = client.get("/api/v1/emergency/roads/geojson")
    assert geo.status_code == 200 and geo.json()["type"] == "FeatureCollection"
