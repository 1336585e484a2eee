"""Device drivers: the Driver protocol, the registry, the read planner and built-in Modbus."""
