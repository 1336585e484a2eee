"""The pump station simulator: a wastewater lift station behind a real Modbus TCP server.

- `process/`: the physical process model (wet well, pumps, control, power, inflow, process
  scenarios), plain Python, deterministic for a seed, advanced in fixed steps of simulated
  time, one part per module;
- `registers`: the register map, the one table that says where each value lives;
- `server`: a pymodbus TCP server per station, serving one model per unit id;
- `faults`, `scenarios`: link faults, and the scenario names users type (process and link);
- `runner`: the clock, the servers and scenario control (`pstg simulate`);
- `seed`: the station.yaml that reads the simulator correctly (`pstg seed`).

See docs/simulator.md for the register map and the scenarios.
"""
