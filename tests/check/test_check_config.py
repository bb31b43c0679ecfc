"""Check configurations: the bundled ones load; a bad one is rejected with file and key."""

import pytest

from flashsim.models.check import CheckConfigError, load_config
from flashsim.models.check.config import Process
from flashsim.models.ops import Establish, Read, Write

MINIMAL = """
[[volumes]]
name = "A"
tracks = 2
track_size_bytes = 1

[[processes]]
name = "w"
ops = [{ op = "write", volume = "A", offset = 0, data = "41" }]
"""

NOCOPY_SETUP = """
[[volumes]]
name = "B"
tracks = 2
track_size_bytes = 1

[[setup]]
op = "establish"
id = "r1"
source = "A"
target = "B"
background_copy = false
"""


def test_the_reference_configurations_are_bundled(reference):
    assert sorted(reference) == [
        "a_pair",
        "b_cascade",
        "c_two_targets",
        "d_group",
        "e_space_efficient",
        "f_symmetric_writers",
        "g_host_choices",
        "h_admin_choices",
        "i_space_choices",
        "j_group_choices",
        "k_address_errors",
        "l_svc_cascade",
        "m_row_snapshots",
        "n_row_partial_writes",
        "n_svc_restart",
        "n_svc_suspended",
        "o_svc_incremental",
        "q_space_reads",
        "r_establish_errors",
        "s_copy_options",
        "t_svc_choices",
        "u_row_choices",
        "v_spanning_io",
        "w_twin_pairs",
        "x_svc_autodelete_cleaning",
    ]


def test_configuration_a_reads_as_written(reference):
    config = reference["a_pair"]
    assert [(v.name, v.tracks, v.track_size) for v in config.volumes] == [("A", 3, 2), ("B", 3, 2)]
    assert config.setup == (Write("A", 0, bytes.fromhex("a0a1a2a3a4a5")), Establish("r1", "A", "B"))
    assert config.processes == (
        Process("src_writer", (Write("A", 1, b"\x51"), Write("A", 2, b"\x52\x52"))),
        Process("tgt_writer", (Write("B", 0, b"\x61"), Write("B", 2, b"\x62\x62"))),
        Process("reader", (Read("B", 0, 6),)),
        Process("copier", (), "r1"),
    )
    assert (config.max_states, config.max_depth) == (200_000, 200)


def test_a_minimal_configuration_takes_the_defaults(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert (config.max_states, config.max_depth, config.sometimes) == (200_000, 500, ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "\n[check]\nmax_state = 3\n", "check.max_state: unknown key"),
        (MINIMAL.replace('name = "w"', 'name = "w"\ncolor = 1'), "processes[0].color: unknown key"),
        (
            MINIMAL.replace('offset = 0, data = "41"', 'offset = 0, data = "41", fill = 1'),
            "processes[0].ops[0].fill: unknown key",
        ),
        (
            MINIMAL.replace('volume = "A"', 'volume = "Z"'),
            "processes[0].ops[0].volume: unknown volume 'Z'",
        ),
        (MINIMAL.replace("tracks = 2", "tracks = 0"), "volumes[0].tracks: must be 1..64, got 0"),
        (
            MINIMAL.replace("track_size_bytes = 1", "track_size_bytes = 65536"),
            "volumes[0].track_size_bytes: must be 1..4096, got 65536",
        ),
        (MINIMAL + "\n[check]\nmax_states = 0\n", "check.max_states: must be 1..5000000, got 0"),
        (MINIMAL + "\n[check]\nmutants = [{x = 1}]\n", "check.mutants[0]: unknown mutant {'x': 1}"),
        (MINIMAL + "\n[check]\nsometimes = [[]]\n", "check.sometimes[0]: unknown property []"),
        (
            MINIMAL.replace('op = "write"', "op = []"),
            "processes[0].ops[0].op: unknown operation []",
        ),
        (
            MINIMAL + '\n[[setup]]\nop = "write"\nvolume = "A"\noffset = 1\ndata = "4142"\n',
            "setup[0]: volume A: bytes 1..2 pass the end of the volume (2 bytes)",
        ),
        (
            MINIMAL.replace(
                "[[processes]]",
                NOCOPY_SETUP
                + NOCOPY_SETUP.split("[[setup]]")[1].join(["\n[[setup]]", ""])
                + "\n[[processes]]",
            ),
            "setup[1]: relationship id r1 is in use (A -> B)",
        ),
        (MINIMAL.replace("tracks = 2", 'tracks = "2"'), "volumes[0].tracks: expected int, got '2'"),
        (
            MINIMAL.replace('data = "41"', 'data = "4x"'),
            "processes[0].ops[0].data: expected hex digits",
        ),
        (
            MINIMAL.replace('"write"', '"erase"'),
            "processes[0].ops[0].op: unknown operation 'erase'",
        ),
        (
            MINIMAL + '\n[check]\nsometimes = ["never"]\n',
            "check.sometimes[0]: unknown property 'never'",
        ),
        (
            MINIMAL.replace('ops = [{ op = "write", volume = "A", offset = 0, data = "41" }]', ""),
            "processes[0]: give exactly one of 'ops' (a host process) or 'copier'",
        ),
        ("volumes = 3", "volumes: expected list, got 3"),
        (
            MINIMAL + '\n[[processes]]\nname = "c"\ncopier = "r9"\n',
            "processes[1].copier: relationship 'r9' is never established",
        ),
        (
            MINIMAL.replace("[[processes]]", NOCOPY_SETUP + "\n[[processes]]")
            + '\n[[processes]]\nname = "c"\ncopier = "r1"\n',
            "processes[1].copier: relationship 'r1' is NOCOPY: it has no background copy",
        ),
        ("[check\n", "not valid TOML"),
    ],
)
def test_a_bad_configuration_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CheckConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(CheckConfigError, match="cannot read"):
        load_config(tmp_path / "none.toml")


def many_volumes(count: int) -> str:
    return "".join(
        f'[[volumes]]\nname = "V{i}"\ntracks = 1\ntrack_size_bytes = 1\n' for i in range(count)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            MINIMAL.encode() + b"# caf\xe9\n",  # the bad byte: on the line after MINIMAL's last
            f":{MINIMAL.count(chr(10)) + 1}: not UTF-8 (byte {len(MINIMAL) + len('# caf')})",
        ),
        (b"x = " + b"[" * 100_000 + b"]" * 100_000, "not valid TOML: nested too deeply"),
        (b"# " + b"x" * (1 << 20) + b"\n", "bytes, over the limit of 1048576 bytes"),
        (
            (
                many_volumes(17) + MINIMAL.split("[[processes]]")[1].join(["[[processes]]", ""])
            ).encode(),
            "volumes: 17 entries, over the limit of 16",
        ),
    ],
)
def test_a_malformed_file_is_a_configuration_error_not_a_traceback(tmp_path, data, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    with pytest.raises(CheckConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}")
    assert message in str(caught.value)
