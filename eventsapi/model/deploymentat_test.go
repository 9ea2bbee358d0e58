package model

import "testing"

func TestServiceDeploymentAt(t *testing.T) {
	two := Service{DeploymentName: "m2", Deployments: []DeploymentRef{{"m1", 1000}, {"m2", 5000}}}
	tests := []struct {
		name string
		svc  Service
		at   int64
		want string
	}{
		{"the first deployment's failure", two, 4000, "m1"},
		{"at the second one's creation", two, 5000, "m2"},
		{"after both", two, 9000, "m2"},
		{"before every listed one", two, 500, ""},
		{"no creation times: the newest", Service{DeploymentName: "m2", Deployments: []DeploymentRef{{"m1", 0}, {"m2", 0}}}, 100, "m2"},
		{"none listed", Service{DeploymentName: "x"}, 100, "x"},
		{"equal times: the later listed", Service{Deployments: []DeploymentRef{{"a", 1000}, {"b", 1000}}}, 2000, "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.svc.DeploymentAt(tc.at); got != tc.want {
				t.Fatalf("DeploymentAt(%d) = %q, want %q", tc.at, got, tc.want)
			}
		})
	}
}
