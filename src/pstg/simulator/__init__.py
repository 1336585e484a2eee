"""The pump station simulator: a wastewater lift station behind a real Modbus TCP server.

- `process`, `inflow`, `hydraulics`: the physical process model (wet well, pumps, control,
  power), plain Python, deterministic for a seed, advanced in fixed steps of simulated time;
- `registers`: the register map, the one table that says where each value lives;
- `server`: a pymodbus TCP server per station, serving one model per unit id;
- `faults`, `scenarios`: link faults and the scenario names users type;
- `runner`: the clock, the servers and scenario control (`pstg simulate`);
- `seed`: the station.yaml that reads the simulator correctly (`pstg seed`).

See docs/simulator.md for the register map and the scenarios.
"""
