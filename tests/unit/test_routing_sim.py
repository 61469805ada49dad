"""The bench's routing simulation accounts for every ticket and never overfills an agent."""
from __future__ import annotations

from bench import routing_sim


def test_every_ticket_is_accounted_for_and_capacity_holds(monkeypatch):
    peak = {}
    original = routing_sim.routing.candidates

    def watching(ticket, agents, settings, now):
        for agent in agents:
            assert agent.load <= agent.capacity
            peak[agent.id] = max(peak.get(agent.id, 0), agent.load)
        return original(ticket, agents, settings, now)

    monkeypatch.setattr(routing_sim.routing, "candidates", watching)
    result = routing_sim.simulate(seed=3, n_tickets=300, n_agents=25)
    assert result["assigned"] + result["never_assigned"] == 300
    assert 0 <= result["first_response_sla_met"] <= 1 and peak
