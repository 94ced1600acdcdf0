"""MD5 sums and sizes (bytes) of the ground-truth files of the official evaluators, as
stored at the commits that :mod:`asd_lib.corpus.ground_truth` downloads (computed by us
from those commits' files; the organisers publish no sums). Keys are paths in the
evaluator repository."""

from typing import Dict, Tuple

DCASE2021: Dict[str, Tuple[str, int]] = {
    "ground_truth_data/ground_truth_ToyCar_section_03_source_test.csv":
        ("6a07cfc4ffdff51e510197b79ce360e6", 6800),
    "ground_truth_data/ground_truth_ToyCar_section_03_target_test.csv":
        ("42abab55aca09ed8656b97d5cb804d38", 6800),
    "ground_truth_data/ground_truth_ToyCar_section_04_source_test.csv":
        ("39b96b39625ecdbe381b62b44daef9ce", 6800),
    "ground_truth_data/ground_truth_ToyCar_section_04_target_test.csv":
        ("8911bb54780d861c0d140fbd9c6d9e73", 6800),
    "ground_truth_data/ground_truth_ToyCar_section_05_source_test.csv":
        ("ec7c4d9fd821d32e6c9250edecfa82fe", 6800),
    "ground_truth_data/ground_truth_ToyCar_section_05_target_test.csv":
        ("6e1036ce5865b1184e66ac68259dc106", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_03_source_test.csv":
        ("bca468f9fa8c7a704f5d9528f84b3c5b", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_03_target_test.csv":
        ("639ca559305e496420f797f82e3d0b19", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_04_source_test.csv":
        ("21ec414d509b1b06d235ec6643866534", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_04_target_test.csv":
        ("0caf821963d8f3680649662bdcabcdcd", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_05_source_test.csv":
        ("12444782e10fa50ae5fca63c06ceb52c", 6800),
    "ground_truth_data/ground_truth_ToyTrain_section_05_target_test.csv":
        ("1c31437b046b57c6131d54f24605aa6a", 6800),
    "ground_truth_data/ground_truth_fan_section_03_source_test.csv":
        ("065759c4fe6b280e027cffe34c2530da", 6800),
    "ground_truth_data/ground_truth_fan_section_03_target_test.csv":
        ("2f2f3f0af259924286714d69bf3efa39", 6800),
    "ground_truth_data/ground_truth_fan_section_04_source_test.csv":
        ("5f17ee68ae391eeb738d1f1ac1e71df7", 6800),
    "ground_truth_data/ground_truth_fan_section_04_target_test.csv":
        ("8d2ae8c76f37f8e4f77a589ed7168c61", 6800),
    "ground_truth_data/ground_truth_fan_section_05_source_test.csv":
        ("b9650731f61fa1d97dfdfdd8aca66923", 6800),
    "ground_truth_data/ground_truth_fan_section_05_target_test.csv":
        ("6d8a172ad0900ef24ace062278bebd81", 7000),
    "ground_truth_data/ground_truth_gearbox_section_03_source_test.csv":
        ("cbf97bb6c4a13420bd114b5ec7fed3e9", 7956),
    "ground_truth_data/ground_truth_gearbox_section_03_target_test.csv":
        ("eb7bd3116bf9d24145daf21cabf58057", 9724),
    "ground_truth_data/ground_truth_gearbox_section_04_source_test.csv":
        ("0d96aae560c84554772a75a243ce0791", 8568),
    "ground_truth_data/ground_truth_gearbox_section_04_target_test.csv":
        ("83a40856bd388231663737ff4c57a800", 7956),
    "ground_truth_data/ground_truth_gearbox_section_05_source_test.csv":
        ("7e38982ba3227dbe91f0595063d39add", 7140),
    "ground_truth_data/ground_truth_gearbox_section_05_target_test.csv":
        ("525709c2249edd70f111d357ebf6d7c9", 7208),
    "ground_truth_data/ground_truth_pump_section_03_source_test.csv":
        ("30666f4b55eed496ad4434e022d17dd6", 6800),
    "ground_truth_data/ground_truth_pump_section_03_target_test.csv":
        ("17e89371d5e637b99f6aa18b85af8c63", 6800),
    "ground_truth_data/ground_truth_pump_section_04_source_test.csv":
        ("c448408e4c4b39a8b34c12b4afa89d82", 6800),
    "ground_truth_data/ground_truth_pump_section_04_target_test.csv":
        ("abedc241482008f2504d6d550a1294b1", 6800),
    "ground_truth_data/ground_truth_pump_section_05_source_test.csv":
        ("9018adaa7708333478c323ee50551a99", 6800),
    "ground_truth_data/ground_truth_pump_section_05_target_test.csv":
        ("114579b37527ffea2557d95c9d63c452", 6800),
    "ground_truth_data/ground_truth_slider_section_03_source_test.csv":
        ("69ba5a7b4f2b472a022b19ccb48e0e15", 6800),
    "ground_truth_data/ground_truth_slider_section_03_target_test.csv":
        ("e3875090ee56ce9a46e3ebb617eb1286", 6800),
    "ground_truth_data/ground_truth_slider_section_04_source_test.csv":
        ("43aeb381650be42829c05264b3c330dc", 6800),
    "ground_truth_data/ground_truth_slider_section_04_target_test.csv":
        ("07b52058d7c8caf19219d3a8cc791a4b", 6800),
    "ground_truth_data/ground_truth_slider_section_05_source_test.csv":
        ("bd65dd44d3027d6ea0e77b514b161e29", 6936),
    "ground_truth_data/ground_truth_slider_section_05_target_test.csv":
        ("386950a176df697b919e765228588850", 6902),
    "ground_truth_data/ground_truth_valve_section_03_source_test.csv":
        ("f42dd0b30af6c37d4b501538c33ca4e7", 6800),
    "ground_truth_data/ground_truth_valve_section_03_target_test.csv":
        ("a5fb964defa279b9a7221f2418bd3f24", 6800),
    "ground_truth_data/ground_truth_valve_section_04_source_test.csv":
        ("ed8df8fd7db2717726289dab35533e9e", 6800),
    "ground_truth_data/ground_truth_valve_section_04_target_test.csv":
        ("981f406c1886991acfc21c5708c21406", 6800),
    "ground_truth_data/ground_truth_valve_section_05_source_test.csv":
        ("4d201ff6e031c7035036e4df18c4ede1", 6800),
    "ground_truth_data/ground_truth_valve_section_05_target_test.csv":
        ("387e1d5a7c91b1e2c19de2a3afd5ea68", 6800),
}

DCASE2022: Dict[str, Tuple[str, int]] = {
    "ground_truth_data/ground_truth_ToyCar_section_03_test.csv":
        ("6a916b5d6f598eb1c3fb3eae45dc35cd", 4400),
    "ground_truth_data/ground_truth_ToyCar_section_04_test.csv":
        ("a62531cddbc9487502956fdc274b87bd", 4400),
    "ground_truth_data/ground_truth_ToyCar_section_05_test.csv":
        ("58c1e5cbb9941fea3dc4f7ec75562335", 4400),
    "ground_truth_data/ground_truth_ToyTrain_section_03_test.csv":
        ("f706e59d6cf7a323bf02e7e8c33e820b", 4400),
    "ground_truth_data/ground_truth_ToyTrain_section_04_test.csv":
        ("018a1973b47ac9f82661a5f8859276ca", 4400),
    "ground_truth_data/ground_truth_ToyTrain_section_05_test.csv":
        ("9b6f62e8950076bf5744f5c8dfc7e108", 4400),
    "ground_truth_data/ground_truth_bearing_section_03_test.csv":
        ("aee1c797348c7672aba267e221cd18ea", 4400),
    "ground_truth_data/ground_truth_bearing_section_04_test.csv":
        ("d4e0ee0926ab48917ac53eb0810e858a", 4400),
    "ground_truth_data/ground_truth_bearing_section_05_test.csv":
        ("e07a264d3363b273594dafc85f5b4a5b", 4400),
    "ground_truth_data/ground_truth_fan_section_03_test.csv":
        ("2513181e1de59c553c9ab6cd8b847020", 4400),
    "ground_truth_data/ground_truth_fan_section_04_test.csv":
        ("0388a6d9d6adb966d03e05c4d29e54e8", 4400),
    "ground_truth_data/ground_truth_fan_section_05_test.csv":
        ("17b46eed82815cca1952cb121c063eac", 4400),
    "ground_truth_data/ground_truth_gearbox_section_03_test.csv":
        ("ae730b6ac8a84575333e8878b389c984", 4400),
    "ground_truth_data/ground_truth_gearbox_section_04_test.csv":
        ("cfecebac7350d8b71b46eb1d39151f9b", 4400),
    "ground_truth_data/ground_truth_gearbox_section_05_test.csv":
        ("289bb6adad7cde746581ebfe7c5c560b", 4400),
    "ground_truth_data/ground_truth_slider_section_03_test.csv":
        ("3c460e878a1b730411ddc93e62583fa4", 4400),
    "ground_truth_data/ground_truth_slider_section_04_test.csv":
        ("405b07a8aee9c301882cdf16cccd42a7", 4400),
    "ground_truth_data/ground_truth_slider_section_05_test.csv":
        ("7f561e094b9a369b5ced793bee65ac5e", 4400),
    "ground_truth_data/ground_truth_valve_section_03_test.csv":
        ("3e1ce2eb6b79be247fff4230c7dbf3f4", 4400),
    "ground_truth_data/ground_truth_valve_section_04_test.csv":
        ("21d04bdfa46b0d7b2c10e10ba6163caa", 4400),
    "ground_truth_data/ground_truth_valve_section_05_test.csv":
        ("1eaccce7df6fd5034e16a4e2848bd36a", 4400),
    "ground_truth_domain/ground_truth_ToyCar_section_03_test.csv":
        ("a983664c15139b1fe68a19e58f7cd85f", 4400),
    "ground_truth_domain/ground_truth_ToyCar_section_04_test.csv":
        ("99a58c236a6dfcc46a97bd2417a5ce80", 4400),
    "ground_truth_domain/ground_truth_ToyCar_section_05_test.csv":
        ("75671fd9e328bff37f7cb5af0968b1e9", 4400),
    "ground_truth_domain/ground_truth_ToyTrain_section_03_test.csv":
        ("e7122cd9b069e8fbceb8161899da09ce", 4400),
    "ground_truth_domain/ground_truth_ToyTrain_section_04_test.csv":
        ("5619a191b7d7bac62b08547d91b9fb93", 4400),
    "ground_truth_domain/ground_truth_ToyTrain_section_05_test.csv":
        ("aece0c2b9cee3c723bfffd33870ef74a", 4400),
    "ground_truth_domain/ground_truth_bearing_section_03_test.csv":
        ("7d5c2e7b42a6804021d30f7e3d10d74b", 4400),
    "ground_truth_domain/ground_truth_bearing_section_04_test.csv":
        ("d2b9889fc23d31814bc6733b08c0d1aa", 4400),
    "ground_truth_domain/ground_truth_bearing_section_05_test.csv":
        ("00b4d63c09365b960ad56d6c78f2d4c2", 4400),
    "ground_truth_domain/ground_truth_fan_section_03_test.csv":
        ("fd589f04b703126ad44587e24cccb0ec", 4400),
    "ground_truth_domain/ground_truth_fan_section_04_test.csv":
        ("aafb81e619045dcd8f53083a18d5a6e1", 4400),
    "ground_truth_domain/ground_truth_fan_section_05_test.csv":
        ("37cd522da0c9c18da19c0d806a2c9d93", 4400),
    "ground_truth_domain/ground_truth_gearbox_section_03_test.csv":
        ("8b20459d74da2f0cc232424daa6b9781", 4400),
    "ground_truth_domain/ground_truth_gearbox_section_04_test.csv":
        ("438ed74236edf3e1aeb163b7fccbd60f", 4400),
    "ground_truth_domain/ground_truth_gearbox_section_05_test.csv":
        ("4750ff68afc0baa8cdf2475f6db36681", 4400),
    "ground_truth_domain/ground_truth_slider_section_03_test.csv":
        ("a777e1580c84d2bce51b9cb6d8826c80", 4400),
    "ground_truth_domain/ground_truth_slider_section_04_test.csv":
        ("9be8cfd46c97c452c604ae39f2b14c68", 4400),
    "ground_truth_domain/ground_truth_slider_section_05_test.csv":
        ("fc4ee7a6af2fbc92e40f795f8b5bcd62", 4400),
    "ground_truth_domain/ground_truth_valve_section_03_test.csv":
        ("f0bed15667846fb9d4fa4ab99d6c46d5", 4400),
    "ground_truth_domain/ground_truth_valve_section_04_test.csv":
        ("8e21df55d59df7aa2acaea0e04bc2134", 4400),
    "ground_truth_domain/ground_truth_valve_section_05_test.csv":
        ("c73478e7638fd5115d365f4e4286d523", 4400),
}

DCASE2023: Dict[str, Tuple[str, int]] = {
    "ground_truth_data/ground_truth_ToyDrone_section_00_test.csv":
        ("1e06cfbb370e8b51714e8f77cf073d80", 4400),
    "ground_truth_data/ground_truth_ToyNscale_section_00_test.csv":
        ("684b22b0d3f645eac442327a50a2df97", 4400),
    "ground_truth_data/ground_truth_ToyTank_section_00_test.csv":
        ("36eeb3d8f65e50db276f203d31b1ac90", 4400),
    "ground_truth_data/ground_truth_Vacuum_section_00_test.csv":
        ("c69936f6ec402951e27df63bcca3f1b2", 4400),
    "ground_truth_data/ground_truth_bandsaw_section_00_test.csv":
        ("58040312ee20826cb4e485518ac45a47", 4400),
    "ground_truth_data/ground_truth_grinder_section_00_test.csv":
        ("2638968973aacc1fa7ea9b4f9d78387b", 4400),
    "ground_truth_data/ground_truth_shaker_section_00_test.csv":
        ("010d9b32fa763f0ba900e2a4f8dedbec", 4400),
    "ground_truth_domain/ground_truth_ToyDrone_section_00_test.csv":
        ("44d2e6c927dbd645ac2bacf92d00b749", 4400),
    "ground_truth_domain/ground_truth_ToyNscale_section_00_test.csv":
        ("7e5a3c37b244ef2d857a5d585027ace4", 4400),
    "ground_truth_domain/ground_truth_ToyTank_section_00_test.csv":
        ("1e4e98ebf6bc48a05384a4711ff48794", 4400),
    "ground_truth_domain/ground_truth_Vacuum_section_00_test.csv":
        ("25dddb66afa21c4e9ebf82028d0fa987", 4400),
    "ground_truth_domain/ground_truth_bandsaw_section_00_test.csv":
        ("e62710355bfe474cafbe5100c716ed5e", 4400),
    "ground_truth_domain/ground_truth_grinder_section_00_test.csv":
        ("d1818394f3d218ea75ea9d6d47571fc2", 4400),
    "ground_truth_domain/ground_truth_shaker_section_00_test.csv":
        ("41839a4cf02bf2af873564399b868ab9", 4400),
}

DCASE2024: Dict[str, Tuple[str, int]] = {
    "ground_truth_data/ground_truth_3DPrinter_section_00_test.csv":
        ("e77d95c84b95c966e2d0df6e7501e779", 4400),
    "ground_truth_data/ground_truth_AirCompressor_section_00_test.csv":
        ("888ce6d4e9c24d083d79e2ba6c3c3ebb", 4400),
    "ground_truth_data/ground_truth_BrushlessMotor_section_00_test.csv":
        ("853f33012b96d3003b4e6129da4d118e", 4400),
    "ground_truth_data/ground_truth_HairDryer_section_00_test.csv":
        ("1e06cfbb370e8b51714e8f77cf073d80", 4400),
    "ground_truth_data/ground_truth_HoveringDrone_section_00_test.csv":
        ("684b22b0d3f645eac442327a50a2df97", 4400),
    "ground_truth_data/ground_truth_RoboticArm_section_00_test.csv":
        ("8f3832249b82a140a2bc4cbccfc685f0", 4400),
    "ground_truth_data/ground_truth_Scanner_section_00_test.csv":
        ("0d182a4575b7ecc98c7f73b471f0de14", 4400),
    "ground_truth_data/ground_truth_ToothBrush_section_00_test.csv":
        ("36eeb3d8f65e50db276f203d31b1ac90", 4400),
    "ground_truth_data/ground_truth_ToyCircuit_section_00_test.csv":
        ("c69936f6ec402951e27df63bcca3f1b2", 4400),
    "ground_truth_domain/ground_truth_3DPrinter_section_00_test.csv":
        ("09b437f995e503e59194113d225c8576", 4400),
    "ground_truth_domain/ground_truth_AirCompressor_section_00_test.csv":
        ("af05e453246f0f3e7716de3d43c3b922", 4400),
    "ground_truth_domain/ground_truth_BrushlessMotor_section_00_test.csv":
        ("b371cfc2e52ece43ce4a815b2aeee58c", 4400),
    "ground_truth_domain/ground_truth_HairDryer_section_00_test.csv":
        ("44d2e6c927dbd645ac2bacf92d00b749", 4400),
    "ground_truth_domain/ground_truth_HoveringDrone_section_00_test.csv":
        ("7e5a3c37b244ef2d857a5d585027ace4", 4400),
    "ground_truth_domain/ground_truth_RoboticArm_section_00_test.csv":
        ("0b9b16a9a2a5305220cdf21ee103f8bb", 4400),
    "ground_truth_domain/ground_truth_Scanner_section_00_test.csv":
        ("f0b070d684012f9a5014e994437df840", 4400),
    "ground_truth_domain/ground_truth_ToothBrush_section_00_test.csv":
        ("1e4e98ebf6bc48a05384a4711ff48794", 4400),
    "ground_truth_domain/ground_truth_ToyCircuit_section_00_test.csv":
        ("25dddb66afa21c4e9ebf82028d0fa987", 4400),
}
