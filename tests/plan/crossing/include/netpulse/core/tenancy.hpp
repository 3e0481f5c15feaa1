// Fixture of scripts/check-includes: a face that keeps to the plan.
#pragma once
